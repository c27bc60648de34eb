"""Training: settings and their checks, the engines, progress events, recipes and the CLI."""
