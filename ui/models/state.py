"""The Models page's session-state keys. It keeps none across page changes: the store is its state."""

from __future__ import annotations

from ui.persist import KeptKeys

TABLE = "store_table"  # the store table's selection
ACTION_MESSAGE = "store_action_message"  # (kind, text) of the last rename or delete, shown once
UPLOAD = "store_upload"  # the .keras file uploader
UPLOAD_DATASET = "store_upload_dataset"
UPLOAD_GO = "store_upload_go"
ADDED = "store_upload_added"  # the last upload's success message, shown after the rerun that lists it
WARNED = "store_upload_warned"  # the last upload's warning (e.g. it scores at chance), shown with it
PENDING = "store_upload_pending"  # set by the button: check the upload in this run

KEPT = KeptKeys("ui.models.state")
EXPORTS = "store_exports"  # dict: (run id, format) → (file bytes, check dict), this session's exports
EXPORT_FORMAT = "store_export_format"
EXPORT_GO = "store_export_go"
EXPORT_ERROR = "store_export_error"
