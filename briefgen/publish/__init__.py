"""Publish a built site: commit it to a git branch, or sync it into a folder.

The caller builds the site and hands over the finished output folder; this
package only moves files. Both targets are incremental and conservative.
"""

from briefgen.publish.common import PublishError, PublishResult
from briefgen.publish.folder import MANIFEST_NAME, check_apart, check_dir_target, publish_dir
from briefgen.publish.git import check_git_target, publish_git_branch

__all__ = [
    "MANIFEST_NAME",
    "PublishError",
    "PublishResult",
    "check_apart",
    "check_dir_target",
    "check_git_target",
    "publish_dir",
    "publish_git_branch",
]
