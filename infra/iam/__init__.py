"""``make iam``: the packaged template's IAM policies checked against every AWS call the end-to-end flows make."""
