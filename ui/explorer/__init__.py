"""The Explorer page's Streamlit pieces."""
