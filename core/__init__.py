"""The domain of parbot: plans, agencies, deadlines, conversations.

Only the standard library may be imported here, so that the rules of the domain can be read,
tested and reused without Telegram, a database or a template engine.
"""
