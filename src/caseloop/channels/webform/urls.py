from django.urls import path

from . import views

app_name = "webform"
urlpatterns = [
    path("", views.contact, name="contact"),
    path("thanks/<str:token>/", views.thanks, name="thanks"),
    path(
        "known-issues/<int:issue_id>/follow/",
        views.known_issue_follow,
        name="known_issue_follow",
    ),
    path("<slug:key>/", views.contact_keyed, name="contact_keyed"),
    path("<slug:key>/embed/", views.embed, name="embed"),
    path(
        "<slug:key>/embed/known-issues/<int:issue_id>/follow/",
        views.embed_known_issue_follow,
        name="embed_known_issue_follow",
    ),
    path("<slug:key>/embed/thanks/<str:token>/", views.embed_thanks, name="embed_thanks"),
]
