"""The operators' side: the ``micromoments`` commands that run against a deployment
(`commands`), the deployment check (`doctor`) and leaving cleanly (`uninstall`). No Lambda
function imports this package."""
