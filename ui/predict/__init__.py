"""The Predict page's Streamlit pieces."""
