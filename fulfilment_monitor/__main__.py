from fulfilment_monitor.cli import main

raise SystemExit(main())
