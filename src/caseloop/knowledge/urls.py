from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.help_index, name="index"),
    path("category/<slug:slug>/", views.help_category, name="category"),
    path("search/", views.help_search, name="search"),
    path("articles/<int:article_id>/", views.help_article, name="article"),
    path("suggest", views.suggest, name="suggest"),
    path("deflect", views.deflect, name="deflect"),
    path(
        "known-issues/<int:issue_id>/follow",
        views.known_issue_follow,
        name="known_issue_follow",
    ),
    path("desk/articles/", views.desk_articles, name="desk_articles"),
    path("desk/articles/new/", views.desk_article_edit, name="desk_article_new"),
    path("desk/articles/<int:article_id>/", views.desk_article, name="desk_article"),
    path("desk/articles/<int:article_id>/edit/", views.desk_article_edit, name="desk_article_edit"),
    path(
        "desk/articles/<int:article_id>/transition",
        views.desk_transition,
        name="desk_transition",
    ),
    path(
        "desk/articles/<int:article_id>/versions/<int:number>/",
        views.desk_version,
        name="desk_version",
    ),
    path(
        "desk/articles/<int:article_id>/versions/<int:number>/restore",
        views.desk_restore,
        name="desk_restore",
    ),
    path("desk/search/", views.desk_search, name="desk_search"),
    path("desk/gaps/", views.desk_gaps, name="gaps"),
    path("desk/cases/<int:case_id>/feedback", views.case_feedback, name="case_feedback"),
    path("desk/cases/<int:case_id>/macro", views.case_macro_apply, name="case_macro_apply"),
    path("desk/cases/<int:case_id>/draft", views.case_draft_article, name="case_draft_article"),
]
