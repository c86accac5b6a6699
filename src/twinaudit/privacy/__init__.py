"""The privacy audit: what each twin leaks about the people it was trained on (membership
inference, :mod:`twinaudit.privacy.membership`), and DP-SGD twins with their privacy budget
(:mod:`twinaudit.privacy.dp_sgd`, :mod:`twinaudit.privacy.accounting`) and its fairness cost
(:mod:`twinaudit.privacy.audit`)."""
