from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Caseloop administration"
admin.site.site_title = "Caseloop"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("caseloop.api.urls")),
    path("channels/", include("caseloop.channels.urls")),
    path("help/", include("caseloop.knowledge.urls")),
    path("loop/", include("caseloop.cases.loop.urls")),
    path("triage/", include("caseloop.triage.urls")),
    path("", include("caseloop.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
