"""retrain_runs: gate, the promotion gate's paired figures (differences with intervals, per class, ECE)

Revision ID: 5e1f0c7a9b21
Revises: 5e1f0c2b7a90
Create Date: 2026-12-03 15:30:00.000000

Runs made before it get an empty object: the dashboard then shows their reason only.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1f0c7a9b21'
down_revision = '5e1f0c2b7a90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('retrain_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gate', sa.JSON(), server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('retrain_runs', schema=None) as batch_op:
        batch_op.drop_column('gate')
