"""The Class page's Streamlit pieces: joining, teaching, the leaderboard and the students' live states."""
