# Config as code has no pages of its own: the CLI and the API (configfile/api/) are its faces.
app_name = "configfile"
urlpatterns: list = []
