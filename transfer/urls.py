from django.urls import URLPattern, URLResolver, path

from transfer import views

app_name = "transfer"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("jobs/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("backup.json", views.backup, name="backup"),
]
