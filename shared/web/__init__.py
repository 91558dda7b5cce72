"""The review web app (`adgen web`): FastAPI with server-rendered Jinja2 templates."""
