from django.urls import path

from integrations import views

app_name = "integrations"
urlpatterns = [
    path("tokens/", views.token_index, name="token-index"),
    path("projects/<slug:slug>/tokens/", views.token_list, name="tokens"),
    path("projects/<slug:slug>/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
