"""Front ends only: widgets, plots and wiring. The maths lives in models/."""
