"""The My classes page: build a dataset of your own classes by drawing, taking photos or uploading."""
