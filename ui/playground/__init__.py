"""The Playground page's Streamlit pieces."""
