"""pooldesk"""
