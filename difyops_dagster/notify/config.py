"""Settings of the notification channels (owned by the notify feature)."""

from difyops_dagster.config_model import SettingsModel


class NotifySettings(SettingsModel):
    pass
