from django.urls import path

from selfservice import admin_views, views

app_name = "selfservice"
urlpatterns = [
    # Mailbox owners (identity in the session, never a Django user).
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_view, name="password"),
    path("forwarding/", views.forwarding_view, name="forwarding"),
    # Admins' controls over the self-service (never reachable by an owner's session).
    path("admin/policy/", admin_views.policy_view, name="admin_policy"),
    path("admin/mailboxes/<str:address>/", admin_views.mailbox_access_view, name="admin_mailbox"),
    path(
        "admin/domains/<str:name>/forwarding/",
        admin_views.domain_forwarding_view,
        name="admin_domain_forwarding",
    ),
]
