"""Pure data and gateway facts: the capture record, the catalog and classification, body
parsing, chats, filters, redaction. Imports nothing else of hookcatcher."""
