from django.urls import path  # noqa: F401

app_name = "flags-api"
urlpatterns: list = []
