"""Streamlit-specific shared pieces: navigation, session-state keys, cached loaders, figures, widgets."""
