"""python -m chainrule"""

from chainrule.cli import main

main()
