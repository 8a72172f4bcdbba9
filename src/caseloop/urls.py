from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from caseloop.web.ops import views as ops_views

admin.site.site_header = "Caseloop administration"
admin.site.site_title = "Caseloop"

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("caseloop.api.urls")),
    path("channels/", include("caseloop.channels.urls")),
    path("help/", include("caseloop.knowledge.urls")),
    path("loop/", include("caseloop.web.loop_urls")),
    path("triage/", include("caseloop.triage.urls")),
    path("", include("caseloop.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
