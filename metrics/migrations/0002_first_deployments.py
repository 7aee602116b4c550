"""The stored first production deployment of each commit, filled from the existing rows."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    # The same statement the listeners and `manage.py metrics_firsts_rebuild` run (raw SQL
    # over the tables, no model methods), so the table starts exactly as it will be kept.
    from metrics.firsts import firsts_rebuild

    firsts_rebuild()


class Migration(migrations.Migration):

    dependencies = [
        ('metrics', '0001_initial'),
        ('projects', '0002_archive_and_retire'),
        ('releases', '0003_ticket_type'),
    ]

    operations = [
        migrations.CreateModel(
            name='FirstDeployment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sha', models.CharField(max_length=64)),
                ('deployed_at', models.DateTimeField()),
                ('committed_at', models.DateTimeField(blank=True, null=True)),
                ('lead_seconds', models.FloatField(blank=True, null=True)),
                ('deployment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='releases.deployment')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='projects.project')),
            ],
            options={
                'indexes': [models.Index(fields=['project', 'deployed_at'], include=('lead_seconds',), name='firstdeployment_project_at')],
                'constraints': [models.UniqueConstraint(fields=('project', 'sha'), name='firstdeployment_unique_sha')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
