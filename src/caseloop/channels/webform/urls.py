from django.urls import path

from . import views

app_name = "webform"
urlpatterns = [
    path("", views.contact, name="contact"),
    path("thanks/<str:token>/", views.thanks, name="thanks"),
    path("<slug:key>/", views.contact_keyed, name="contact_keyed"),
    path("<slug:key>/embed/", views.embed, name="embed"),
    path("<slug:key>/embed/thanks/<str:token>/", views.embed_thanks, name="embed_thanks"),
]
