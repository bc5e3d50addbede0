"""The one exception type that means "the user gave us something we cannot use".

Front ends show its message verbatim (gr.Error / st.error); any other exception is a bug and
is logged with its traceback while the user sees a short generic message.
"""


class InputError(ValueError):
    """Bad user input, with a message written for the user (what is wrong and what to do)."""
