"""Trash and undo: deletes keep a copy of what they removed (30 days), edits their previous values (one undo)."""
