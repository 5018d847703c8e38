from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "mailadmin"
admin.site.site_title = "mailadmin"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
