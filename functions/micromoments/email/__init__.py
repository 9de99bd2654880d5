"""The emails micromoments sends: the weekly digest (`digest`, its words in `digest_view`),
the sign-in link (`sign_in`), and the links every email carries (`links`). Templates live
in ``templates/email/``."""
