"""The Train page's Streamlit pieces."""
