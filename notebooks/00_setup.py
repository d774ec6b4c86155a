# %% [markdown]
# # 00 Setup
#
# A placeholder: the full setup lesson comes with the lessons issue.

# %%
from course_utils import config

print("smoke profile:", config.is_smoke())
