from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("admins/", views.admin_list, name="admin_list"),
    path("admins/new/", views.admin_create, name="admin_create"),
    path("admins/<str:username>/", views.admin_detail, name="admin_detail"),
    path("admins/<str:username>/grant/", views.admin_grant, name="admin_grant"),
    path("admins/<str:username>/revoke/", views.admin_revoke, name="admin_revoke"),
    path("admins/<str:username>/password/", views.admin_reset_password, name="admin_password"),
    path("admins/<str:username>/delete/", views.admin_delete, name="admin_delete"),
    path("throttles/", views.throttle_list, name="throttle_list"),
    path("throttles/<int:pk>/lift/", views.throttle_lift, name="throttle_lift"),
]
