"""Pydantic request and response bodies, split Base / Create / Update / Public per resource."""
