from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts.web import views

app_name = "accounts"

# Pages of a person, outside any organization.
urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.SignUpView.as_view(), name="signup"),
    path("accounts/signup/sent/", views.SignUpSentView.as_view(), name="signup_sent"),
    path(
        "accounts/signup/confirm/<str:token>/",
        views.SignUpConfirmView.as_view(),
        name="signup_confirm",
    ),
    path("accounts/signup/resend/", views.ResendConfirmationView.as_view(), name="signup_resend"),
    path("accounts/profile/", views.ProfileView.as_view(), name="profile"),
    path(
        "accounts/password-reset/",
        views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/email/password_reset.txt",
            html_email_template_name="accounts/email/password_reset.html",
            subject_template_name="accounts/email/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("orgs/new/", views.OrganizationCreateView.as_view(), name="organization_create"),
    path(
        "invitations/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"
    ),
    path("i18n/language/", views.SetLanguageView.as_view(), name="set_language"),
]

# Pages of one organization, mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("members/", views.MembersView.as_view(), name="members"),
    path("members/<uuid:pk>/role/", views.MemberRoleView.as_view(), name="member_role"),
    path("members/<uuid:pk>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
    path(
        "invitations/<uuid:pk>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path("settings/", views.OrganizationSettingsView.as_view(), name="organization_settings"),
    path("api-keys/", views.ApiKeysView.as_view(), name="api_keys"),
    path("audit/", views.AuditLogView.as_view(), name="audit_log"),
    path("api-keys/<uuid:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
]
