"""factory_boy factories. Domain objects that have a service are created through it
where the test cares about rules; these factories are for arranging state quickly."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from projects.choices import DEFAULT_ENVIRONMENTS
from projects.models import Environment, Membership, Project
from releases.models import Deployment, Release


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")

    @factory.post_generation
    def environments(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            for order, (name, display, tier) in enumerate(DEFAULT_ENVIRONMENTS, start=1):
                Environment.objects.create(
                    project=obj, name=name, display_name=display, tier=tier, order=order
                )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = "engineer"


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    project = factory.SubFactory(ProjectFactory)
    version = factory.Sequence(lambda n: f"1.{n}.0")
    version_major = 1
    version_minor = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Release {n}")
    release_manager = factory.SubFactory(UserFactory)
    rollback_plan = "Redeploy the previous artifact."


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    release = factory.SubFactory(ReleaseFactory)
    environment = factory.LazyAttribute(lambda d: d.release.project.environments.get(name="dev"))
    status = "succeeded"
    deployed_by_label = "factory"
