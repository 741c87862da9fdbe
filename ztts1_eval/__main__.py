from ztts1_eval.cli import main

main()
