"""The Evaluate page's Streamlit pieces."""
