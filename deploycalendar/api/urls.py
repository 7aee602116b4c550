from django.urls import path  # noqa: F401

app_name = "deploycalendar-api"
urlpatterns: list = []
