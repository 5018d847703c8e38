from django.urls import path

from domains import views
from domains.views.server import server_settings
from mailadmin.contract import views as contract_views

app_name = "domains"
urlpatterns = [
    path("domains/", views.domain_list, name="list"),
    path("domains/new/", views.domain_create, name="create"),
    # The mail-stack config page lives in the contract (mailadmin/contract/views.py); its
    # names stay domains:config and domains:config_download.
    path("config/", contract_views.config, name="config"),
    path("config/download/", contract_views.config_download, name="config_download"),
    path("server/", server_settings, name="server"),
    path("domains/<str:name>/", views.domain_detail, name="detail"),
    path("domains/<str:name>/edit/", views.domain_edit, name="edit"),
    path("domains/<str:name>/toggle/", views.domain_toggle, name="toggle"),
    path("domains/<str:name>/disable/", views.domain_disable, name="disable"),
    path("domains/<str:name>/delete/", views.domain_delete, name="delete"),
    path(
        "domains/<str:name>/relay-recipients/",
        views.relay_recipient_list,
        name="relay_recipients",
    ),
    path(
        "domains/<str:name>/relay-recipients/add/",
        views.relay_recipient_add,
        name="relay_recipient_add",
    ),
    path(
        "domains/<str:name>/relay-recipients/<int:pk>/delete/",
        views.relay_recipient_delete,
        name="relay_recipient_delete",
    ),
]
