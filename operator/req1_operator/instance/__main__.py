from req1_operator.instance.main import main

main()
