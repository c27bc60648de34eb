"""CNN Lab's logic: pure Python, NumPy and (lazily) Keras. Never imports Streamlit."""
