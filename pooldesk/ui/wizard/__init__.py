"""The provisioning wizard: `WizardController` (controller.py) over `WizardView` (view.py)."""
