from django import template
from django.contrib.auth import get_user_model

register = template.Library()


@register.simple_tag
def first_run_open() -> bool:
    """True while nobody has an account: the first-run page (/setup/) is open."""
    return not get_user_model().objects.exists()
