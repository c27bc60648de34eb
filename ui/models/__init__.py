"""The Models page's Streamlit pieces."""
