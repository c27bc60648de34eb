"""Classes: a teacher's view of their students' runs, a join code, nicknames, shared runs and a leaderboard."""
