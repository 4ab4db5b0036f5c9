"""Components: functions from an environment (data) to hikaru objects. Each returns ``Manifest`` entries."""
