from celery import shared_task

from accounts import services


@shared_task(name="accounts.tasks.expire_invitations")
def expire_invitations() -> int:
    return services.invitations_expire()
