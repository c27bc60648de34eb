"""The model store, and hosted mode's caps and quotas."""
