"""feedback_events: seen_ms, how long the item was on screen before the label was given (null: unknown, e.g. API)

Revision ID: 5e1f0c2b7a90
Revises: 5b1e7c9d2f40
Create Date: 2026-12-03 15:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1f0c2b7a90'
down_revision = '5b1e7c9d2f40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen_ms', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.drop_column('seen_ms')
